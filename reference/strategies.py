"""The strategies of docs/MAPPING.md, one class each.

Every keyed strategy is built from a list of (id, weight) pairs in the order given and has
`walk(h)`: the server ids in the order the key with hash `h` meets them. Ranking and health
are the same for all (`ranked`).
"""

import bisect
import hashlib
import math
import struct

from hashes import SEED, fast_range, mix64, rehash, xxh3


def id_order(servers):
    """The servers in id order: byte-wise on the ids' UTF-8 bytes."""
    return sorted(servers, key=lambda s: s[0].encode("utf-8"))


def ranked(walk, available, k):
    """The first `k` distinct available servers that `walk` meets; the first is the pick."""
    want = min(k, len(available))
    out = []
    for server in walk:
        if len(out) >= want:
            break
        if server in available and server not in out:
            out.append(server)
    return out


def probe_walk(h, n, bucket):
    """Modulo's and jump's walk: 17 probes, then a scan on from the last one."""
    yield bucket(h)
    for attempt in range(1, 17):
        yield bucket(rehash(h, attempt))
    if n > 1:
        last = bucket(rehash(h, 16))
        for i in range(1, n):
            yield (last + i) % n


class Modulo:
    def __init__(self, servers, options):
        self.servers = id_order(servers)
        self.ends = []
        total = 0
        for _, w in self.servers:
            total += w
            self.ends.append(total)

    def bucket(self, h):
        x = fast_range(h, self.ends[-1])
        return bisect.bisect_right(self.ends, x)  # the first i with ends[i] > x

    def walk(self, h):
        for i in probe_walk(h, len(self.servers), self.bucket):
            yield self.servers[i][0]


def jump(key, n):
    """Jump consistent hash, the paper's code."""
    b, j = -1, 0
    while j < n:
        b = j
        key = (key * 2862933555777941757 + 1) & ((1 << 64) - 1)
        j = int(float(b + 1) * (2147483648.0 / float((key >> 33) + 1)))
    return b


class Jump:
    def __init__(self, servers, options):
        assert all(w == 1 for _, w in servers), "jump takes no weights"
        self.ids = [s for s, _ in servers]  # as given

    def walk(self, h):
        n = len(self.ids)
        for i in probe_walk(h, n, lambda x: jump(x, n)):
            yield self.ids[i]


class Ring:
    def __init__(self, servers, options):
        per_weight = options.get("points_per_weight", 160)
        points = []
        for sid, w in servers:
            b = sid.encode("utf-8")
            for i in range(w * per_weight):
                points.append((xxh3(b + i.to_bytes(4, "little")), b, sid))
        points.sort()  # by value, then by the owner's id bytes
        self.values = [p[0] for p in points]
        self.owners = [p[2] for p in points]

    def start(self, h):
        i = bisect.bisect_left(self.values, h)  # the first point >= h
        return 0 if i == len(self.values) else i

    def walk(self, h):
        i, n = self.start(h), len(self.owners)
        for k in range(n):
            yield self.owners[(i + k) % n]


OFFSET_SEED = int.from_bytes(b"maglev-o", "big")
SKIP_SEED = int.from_bytes(b"maglev-s", "big")


class Maglev:
    def __init__(self, servers, options):
        m = options.get("table_size", 65537)
        servers = id_order(servers)
        ids = [s.encode("utf-8") for s, _ in servers]
        weights = [w for _, w in servers]
        nxt = [xxh3(b, OFFSET_SEED) % m for b in ids]
        skip = [xxh3(b, SKIP_SEED) % (m - 1) + 1 for b in ids]
        w_max = max(weights)
        held = [0] * len(servers)
        table = [None] * m
        filled, r = 0, 1
        while filled < m:
            for i in range(len(servers)):
                if filled < m and held[i] * w_max < r * weights[i]:
                    while table[nxt[i]] is not None:
                        nxt[i] = (nxt[i] + skip[i]) % m
                    table[nxt[i]] = servers[i][0]
                    nxt[i] = (nxt[i] + skip[i]) % m
                    held[i] += 1
                    filled += 1
            r += 1
        self.table = table

    def walk(self, h):
        m = len(self.table)
        s = fast_range(h, m)
        for k in range(m):
            yield self.table[(s + k) % m]


def ln(x):
    """ln x for x in (0, 1), from binary64 operations in the order the spec writes them."""
    m, e = math.frexp(x)  # x = m * 2^e, m in [0.5, 1): the spec's m is 2m, its e is e - 1
    m, e = m * 2.0, e - 1
    if m > 1.4142135623730951:
        m, e = m * 0.5, e + 1
    t = (m - 1.0) / (m + 1.0)
    z = t * t
    s = 1.0 / 19.0
    for k in (17, 15, 13, 11, 9, 7, 5, 3):
        s = 1.0 / k + z * s
    s = 1.0 + z * s
    return float(e) * 0.6931471805599453 + (2.0 * t) * s


SERVER_SEED = int.from_bytes(b"rndzvous", "big")


class Rendezvous:
    def __init__(self, servers, options):
        self.servers = id_order(servers)
        self.seeds = [xxh3(s.encode("utf-8"), SERVER_SEED) for s, _ in self.servers]
        self.equal = len({w for _, w in self.servers}) == 1

    def score(self, h, i):
        d = mix64(h ^ self.seeds[i]) >> 12
        if self.equal:
            return d
        u = float(2 * d + 1) * (1.0 / 9007199254740992.0)
        return ln(u) * (1.0 / float(self.servers[i][1]))

    def walk(self, h):
        # Highest score first; ties to the server first in id order (the lower index).
        order = sorted(range(len(self.servers)), key=lambda i: (-self.score(h, i), i))
        for i in order:
            yield self.servers[i][0]


class Bounded(Ring):
    """A ring with caps on the requests in flight; `walk` is the idle mapping (the ring's)."""

    def __init__(self, servers, options):
        super().__init__(servers, options)
        self.epsilon = options.get("epsilon", 0.25)
        self.weights = dict(servers)
        self.in_flight = {s: 0 for s, _ in servers}
        self.leases = 0

    def cap(self, total, w, weight_sum):
        x = (1.0 + self.epsilon) * float(total) * float(w) / float(weight_sum)
        return math.ceil(x)

    def runs(self, h):
        """One owner per run of consecutive points of one owner, once around."""
        last = None
        for owner in self.walk(h):
            if owner != last:
                yield owner
            last = owner

    def choose(self, h, available):
        total = self.leases + 1
        first_pass = list(self.runs(h))[: len(self.weights)]
        all_weights = sum(self.weights.values())
        for s in first_pass:
            if s in available and self.in_flight[s] < self.cap(total, self.weights[s], all_weights):
                return s
        healthy = sum(self.weights[s] for s in available)
        if healthy == 0:
            return None
        for s in self.runs(h):
            if s in available and self.in_flight[s] < self.cap(total, self.weights[s], healthy):
                return s
        return None

    def acquire(self, h, available):
        s = self.choose(h, available)
        if s is not None:
            self.in_flight[s] += 1
            self.leases += 1
        return s


def f32(x):
    """x rounded to the nearest binary32."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Ketama:
    def __init__(self, servers, options):
        flavor = options.get("flavor", "libketama")
        n, total = len(servers), sum(w for _, w in servers)
        points = []
        for sid, w in servers:
            name = sid
            if flavor == "libmemcached" and sid.endswith(":11211"):
                name = sid[: -len(":11211")]
            pct = f32(f32(w) / f32(total))
            if flavor == "libketama":
                ks = math.floor(f32(pct * 40.0 * f32(n)))
            else:
                ks = math.floor(f32(f32(f32(f32(pct * 160.0) / 4.0) * f32(n)) + 1e-10))
            for k in range(ks):
                d = hashlib.md5(f"{name}-{k}".encode("utf-8")).digest()
                for j in range(4):
                    # Sorted below by value, then owner id; then by derivation (k, j).
                    value = int.from_bytes(d[4 * j : 4 * j + 4], "little")
                    points.append((value, sid.encode("utf-8"), k, j, sid))
        points.sort()
        self.values = [p[0] for p in points]
        self.owners = [p[4] for p in points]
        self.by_id = [s for s, _ in id_order(servers)]

    def walk(self, h):
        point = h & 0xFFFFFFFF
        n = len(self.values)
        if n:
            i = bisect.bisect_left(self.values, point)
            i = 0 if i == n else i
            for k in range(n):
                yield self.owners[(i + k) % n]
        yield from self.by_id


def rotation(servers, available, picks):
    """Round-robin: a fresh balancer's first `picks` picks."""
    g = math.gcd(*[w for _, w in servers])
    weights = [w // g for _, w in servers]
    total = sum(weights)
    current = [0] * len(servers)
    period = []
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        best = max(range(len(servers)), key=lambda i: (current[i], -i))
        current[best] -= total
        period.append(servers[best][0])
    out, slot = [], 0
    for _ in range(picks):
        for _ in range(total):
            if period[slot % total] in available:
                break
            slot += 1  # an unavailable server's slot is passed over and used up
        else:
            out.append(None)
            continue
        out.append(period[slot % total])
        slot += 1
    return out


KEYED = {
    "modulo": Modulo,
    "ring": Ring,
    "jump": Jump,
    "maglev": Maglev,
    "rendezvous": Rendezvous,
    "bounded": Bounded,
    "ketama": Ketama,
}
