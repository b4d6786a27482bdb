"""Checks every vector of a loadring vectors file against this reference implementation.

    python3 reference/check.py vectors/mapping-v1.json

For each key: its canonical bytes from its typed description, and its hash under each hasher.
For each case: the pick and ranked candidates of every key, the servers of held leases
(bounded), or the rotation (round-robin). Prints the counts per strategy and key type, and
exits non-zero on any mismatch.
"""

import collections
import json
import sys

from hashes import SEED, md5_ketama, mix64, self_test, siphash, xxh3
from keys import key_bytes
from strategies import KEYED, ranked, rotation

VERSION = 1


class Checker:
    def __init__(self, doc):
        self.keys = doc["keys"]
        self.failures = []
        self.checked = 0  # comparisons made: a failure is one of them
        self.counts = collections.Counter()  # (strategy, key type) -> vectors checked
        self.tables = {}  # keyed strategies by (strategy, options, servers): health aside
        hashers = doc["hashers"]
        self.checked += 1
        if int(hashers["xxh3"]["seed"], 16) != SEED:
            self.fail("the XXH3 seed", hashers["xxh3"]["seed"], f"{SEED:016x}")
        sip_key = bytes.fromhex(hashers["siphash13"]["key"])
        self.hashers = {
            "xxh3": xxh3,
            "siphash13": lambda data: siphash(sip_key, data),
            "md5_ketama": md5_ketama,
        }

    def fail(self, where, expected, got):
        self.failures.append(f"{where}: the file says {expected!r}, the reference gives {got!r}")

    def key_hash(self, key, hasher):
        """The key's hash: its bytes hashed, or for a prehashed key its value."""
        if key["type"] == "prehashed":
            return int(key["value"], 16)
        if key["type"] == "prehashed_mixed":
            return mix64(int(key["value"], 16))
        return self.hashers[hasher](key_bytes(key))

    def check_keys(self):
        for i, key in enumerate(self.keys):
            data = key_bytes(key)
            got = None if data is None else data.hex()
            self.checked += 1
            if key["bytes"] != got:
                self.fail(f"key {i} ({key['type']}) bytes", key["bytes"], got)
            for hasher in self.hashers:
                if hasher in key:
                    self.checked += 1
                    got = f"{self.key_hash(key, hasher):016x}"
                    if key[hasher] != got:
                        self.fail(f"key {i} ({key['type']}) {hasher}", key[hasher], got)

    def check_case(self, case):
        name, strategy = case["name"], case["strategy"]
        servers = [(s["id"], s["weight"]) for s in case["servers"]]
        available = {s for s, _ in servers} - set(case["down"])
        if strategy == "round-robin":
            got = rotation(servers, available, len(case["rotation"]))
            for j, (want, server) in enumerate(zip(case["rotation"], got)):
                if server != want:
                    self.fail(f"{name}: rotation step {j}", want, server)
            self.counts[(strategy, "rotation step")] += len(got)
            return
        balancer = self.build(strategy, case["options"], servers)
        hashes = [self.key_hash(key, case["hasher"]) for key in self.keys]
        for j, lease in enumerate(case.get("leases", [])):
            got = balancer.acquire(hashes[lease["key"]], available)
            if got != lease["server"]:
                self.fail(f"{name}: lease {j} (key {lease['key']})", lease["server"], got)
            self.counts[(strategy, self.keys[lease["key"]]["type"])] += 1
        for pick in case.get("picks", []):
            h = hashes[pick["key"]]
            candidates = ranked(balancer.walk(h), available, case["max_candidates"])
            if strategy == "bounded":
                server = balancer.choose(h, available)  # with nothing in flight
            else:
                server = candidates[0] if candidates else None
            if [server, candidates] != [pick["server"], pick["candidates"]]:
                where = f"{name}: key {pick['key']} ({self.keys[pick['key']]['type']})"
                self.fail(where, [pick["server"], pick["candidates"]], [server, candidates])
            self.counts[(strategy, self.keys[pick["key"]]["type"])] += 1

    def build(self, strategy, options, servers):
        if strategy == "bounded":  # it counts leases: a fresh one for each case
            return KEYED[strategy](servers, options)
        table = (strategy, json.dumps(options, sort_keys=True), tuple(servers))
        if table not in self.tables:
            self.tables[table] = KEYED[strategy](servers, options)
        return self.tables[table]

    def report(self):
        kinds = list(dict.fromkeys(k["type"] for k in self.keys)) + ["rotation step"]
        strategies = list(dict.fromkeys(s for s, _ in self.counts))
        keys_of = collections.Counter(k["type"] for k in self.keys)
        width = max(map(len, kinds)) + 2
        print("vectors checked, per key type (rows) and strategy (columns):")
        print("".ljust(width) + "keys".rjust(6) + "".join(s[:11].rjust(12) for s in strategies))
        for kind in kinds:
            row = [self.counts[(s, kind)] for s in strategies]
            print(
                kind.ljust(width)
                + str(keys_of[kind]).rjust(6)
                + "".join(str(n).rjust(12) for n in row)
            )
        totals = [sum(n for (s, _), n in self.counts.items() if s == t) for t in strategies]
        print(
            "total".ljust(width)
            + str(len(self.keys)).rjust(6)
            + "".join(str(n).rjust(12) for n in totals)
        )
        return sum(totals)


def main(path):
    self_test()
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc["mapping"] != VERSION:
        sys.exit(f"{path} is mapping v{doc['mapping']}; this reference implements v{VERSION}")
    checker = Checker(doc)
    checker.check_keys()
    for case in doc["cases"]:
        checker.check_case(case)
    vectors = checker.report()
    for line in checker.failures[:20]:
        print("MISMATCH", line)
    failed = len(checker.failures)
    print(f"{vectors} vectors in {len(doc['cases'])} cases; {len(doc['keys'])} keys' bytes and hashes")
    # The closing line in the form test runners use.
    print(f"vectors: {checker.checked + vectors - failed} passed, {failed} failed")
    if failed:
        sys.exit(f"the reference and {path} disagree")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
