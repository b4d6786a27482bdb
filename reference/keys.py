"""Canonical key bytes, docs/MAPPING.md "Key bytes", from the typed descriptions of the
vectors file."""

import ipaddress

INT_WIDTHS = {
    "u8": (1, False), "u16": (2, False), "u32": (4, False), "u64": (8, False),
    "u128": (16, False), "usize": (8, False),
    "i8": (1, True), "i16": (2, True), "i32": (4, True), "i64": (8, True),
    "i128": (16, True), "isize": (8, True),
}


def canonical(ip):
    """An IPv4-mapped IPv6 address is its IPv4 address; any other address is itself."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def wide(ip):
    """An address in 16 bytes: IPv4 in its mapped form ::ffff:a.b.c.d."""
    if ip.version == 4:
        return b"\0" * 10 + b"\xff\xff" + ip.packed
    return ip.packed


def socket_addr(text):
    """'1.2.3.4:80' or '[2001:db8::1]:80' as (address, port)."""
    host, _, port = text.rpartition(":")
    return ipaddress.ip_address(host.strip("[]")), int(port)


def client_bytes(address, subnet):
    ip = canonical(ipaddress.ip_address(address))
    if subnet is not None:
        bits = subnet[0] if ip.version == 4 else subnet[1]
        width = ip.max_prefixlen
        mask = ((1 << bits) - 1) << (width - bits)
        ip = ipaddress.ip_address(int(ip) & mask)
    return ip.packed


def flow_bytes(protocol, source, destination, symmetric):
    (a, a_port), (b, b_port) = socket_addr(source), socket_addr(destination)
    a, b = canonical(a), canonical(b)
    if symmetric and (wide(a), a_port) > (wide(b), b_port):
        (a, a_port), (b, b_port) = (b, b_port), (a, a_port)
    family = 4 if a.version == 4 and b.version == 4 else 6
    out = bytes([protocol, family])
    for ip, port in ((a, a_port), (b, b_port)):
        out += (ip.packed if family == 4 else wide(ip)) + port.to_bytes(2, "big")
    return out


def key_bytes(key):
    """The canonical bytes of a key of the vectors file, or None for a prehashed key."""
    kind, value = key["type"], key.get("value")
    if kind == "str":
        return value.encode("utf-8")
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind in INT_WIDTHS:
        width, signed = INT_WIDTHS[kind]
        return int(value).to_bytes(width, "little", signed=signed)
    if kind in ("ipv4", "ipv6"):
        return ipaddress.ip_address(value).packed
    if kind == "socket_addr":
        ip, port = socket_addr(value)
        return ip.packed + port.to_bytes(2, "big")
    if kind == "client":
        return client_bytes(value, key.get("subnet"))
    if kind == "flow":
        return flow_bytes(key["protocol"], key["source"], key["destination"], key["symmetric"])
    if kind in ("prehashed", "prehashed_mixed"):
        return None
    raise ValueError(f"unknown key type {kind!r}")
