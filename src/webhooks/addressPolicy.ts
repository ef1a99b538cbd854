// addressPolicy.ts: which IP addresses a webhook may be sent to. Only globally routable unicast
// addresses; an IPv6 address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged by that one.
import ipaddr from "ipaddr.js";

// ipaddr.js's range names, as a refusal says them. Anything not "unicast" is refused.
const LABEL: Record<string, string> = {
  unspecified: "an unspecified address",
  broadcast: "a broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address (169.254.0.0/16 with the 169.254.169.254 metadata service, fe80::/10)",
  loopback: "a loopback address",
  carrierGradeNat: "a carrier-grade NAT address (100.64.0.0/10)",
  private: "a private address (RFC 1918)",
  uniqueLocal: "a unique-local IPv6 address (fc00::/7)",
  reserved: "a reserved address",
};

/** The IPv4 address an IPv6 one carries in its last 32 bits or after 2002::/16, if its range says it does. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === "ipv4Mapped" || range === "rfc6145" || range === "rfc6052") {
    return ipaddr.fromByteArray(bytes.slice(12)) as ipaddr.IPv4;
  }
  if (range === "6to4") return ipaddr.fromByteArray(bytes.slice(2, 6)) as ipaddr.IPv4;
  return undefined;
}

/**
 * What kind of address `address` (an IP literal) is, when that kind may not be a webhook's target
 * ("a loopback address"); undefined when it may be one.
 */
export function addressRefusal(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return "not an IP address";
  const parsed = ipaddr.parse(address);
  const inner = parsed.kind() === "ipv6" ? embeddedIPv4(parsed as ipaddr.IPv6) : undefined;
  const judged = inner ?? parsed;
  const range = judged.range();
  if (range === "unicast") return undefined;
  const label = LABEL[range] ?? `an address of a special-purpose range (${range})`;
  return inner ? `${label} (IPv4 ${inner.toString()} inside IPv6)` : label;
}

/** The address of a URL host that is an IP literal (`[::1]` loses its brackets); undefined for a name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : undefined;
}
