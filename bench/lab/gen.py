#!/usr/bin/python3
"""Generate the recursive benchmark's lab (issue 6) into a work directory.

    /usr/bin/python3 bench/lab/gen.py OUTDIR [--zones N] [--seed S] [--sld-instances K]

Writes, under OUTDIR:
  lab/           zone files, servers.conf and root.hints in the format tests/lab/start.sh
                 reads (RD_LAB_ZONES=OUTDIR/lab), so the lab starts the same way as the
                 test lab: NSD instances on 127.x addresses, port 53, one network namespace
  q/hot          1,000 (name, type) queries picked from the lab, for the hot-cache runs
  q/hot.expected the answer records those queries must get ("owner TYPE rdata", CNAMEs followed)
  q/cold         one query per existing name (N zones x 50 names), shuffled
  q/nx-max, q/nx-rate   random nonexistent names under existing zones (two disjoint sets)
  lab.txt        a summary (zones, names, records, instances)

The hierarchy: a root (2 addresses) -> 20 TLDs on one NSD instance (2 addresses each) ->
N second-level zones spread over K NSD instances (4 addresses each), 50 names per zone:
apex (A, MX, TXT), www (CNAME to the apex), mail (A, AAAA), ns1/ns2 (in-bailiwick, glued
in the TLD), and 45 hosts: A, every 4th also AAAA, every 10th also TXT, every 9th a CNAME
to another host of the zone, every 15th a CNAME into another zone (CDN-like). One more
zone, wild.<first TLD>, holds a wildcard (*.wild) for the memory check (unique names).

TTLs: 3600 for data, 86400 for delegations and glue, 518400 for the root's own NS, SOA
minimum 300 (the negative TTL, RFC 2308 s5). Deterministic for a given seed.
"""
import argparse
import ipaddress
import os
import random

TLDS = ["com", "net", "org", "io", "dev", "app", "info", "biz", "xyz", "site",
        "online", "shop", "tech", "store", "blog", "cloud", "page", "live", "news", "top"]
HOSTS = ["api", "cdn", "app", "blog", "shop", "static", "img", "m", "login", "auth",
         "docs", "help", "news", "store", "search", "video", "media", "files", "dl", "ftp",
         "vpn", "git", "ci", "status", "portal", "admin", "beta", "dev", "test1", "stage",
         "web1", "web2", "web3", "db1", "db2", "cache1", "mx2", "smtp", "imap", "pop",
         "calendar", "chat", "forum", "wiki", "support"]
assert len(HOSTS) == 45
SYL = ["ba", "ko", "ri", "tel", "mon", "sa", "ve", "lo", "nex", "qua", "dor", "fi", "zen",
       "pra", "lu", "mi", "ta", "gor", "vin", "el", "ar", "sun", "bel", "cor", "da", "ex"]
SOA = "{o} 3600 IN SOA ns1.{o} hostmaster.{o} 1 7200 3600 1209600 300"


def v6(j, x):
    """fd00:<zone>::<host> in the canonical text form (RFC 5952), as dig prints it"""
    return str(ipaddress.IPv6Address("fd00:%x::%x" % (j, x)))


def words(rng, n):
    seen, out = set(), []  # a list keeps the order: set order varies with PYTHONHASHSEED
    while len(out) < n:
        w = "".join(rng.choice(SYL) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--zones", type=int, default=4000)
    ap.add_argument("--sld-instances", type=int, default=4)
    ap.add_argument("--hot", type=int, default=1000)
    ap.add_argument("--nx", type=int, default=300000)
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lab = os.path.join(a.out, "lab")
    qd = os.path.join(a.out, "q")
    os.makedirs(os.path.join(lab, "sld"), exist_ok=True)
    os.makedirs(qd, exist_ok=True)

    # second-level zones: name, tld, instance, ns addresses
    labels = words(rng, a.zones)
    zones = []
    for j, w in enumerate(labels):
        k = j % a.sld_instances
        tld = TLDS[j % len(TLDS)]
        ns = ("127.3.%d.%d" % (k, 1 + j % 4), "127.3.%d.%d" % (k, 1 + (j + 1) % 4))
        zones.append((w + "." + tld + ".", tld, k, ns))

    # root
    roots = [("a.root-servers.bench.", "127.1.0.1"), ("b.root-servers.bench.", "127.1.0.2")]
    with open(os.path.join(lab, "root.zone"), "w") as f:
        f.write(". 86400 IN SOA a.root-servers.bench. nstld.root-servers.bench. 1 1800 900 604800 300\n")
        for n, ip in roots:
            f.write(". 518400 IN NS %s\n%s 518400 IN A %s\n" % (n, n, ip))
        for i, t in enumerate(TLDS):
            for h in (1, 2):
                f.write("%s. 86400 IN NS ns%d.nic.%s.\n" % (t, h, t))
                f.write("ns%d.nic.%s. 86400 IN A 127.2.%d.%d\n" % (h, t, i, h))
    with open(os.path.join(lab, "root.hints"), "w") as f:
        for n, ip in roots:
            f.write(". 3600000 NS %s\n%s 3600000 A %s\n" % (n, n, ip))

    # TLDs
    by_tld = {t: [] for t in TLDS}
    for z in zones:
        by_tld[z[1]].append(z)
    wild = "wild." + TLDS[0] + "."
    for i, t in enumerate(TLDS):
        o = t + "."
        with open(os.path.join(lab, "tld-%s.zone" % t), "w") as f:
            f.write(SOA.format(o="nic." + o).replace("nic.%s 3600" % o, "%s 3600" % o, 1) + "\n")
            for h in (1, 2):
                f.write("%s 86400 IN NS ns%d.nic.%s\n" % (o, h, o))
                f.write("ns%d.nic.%s 3600 IN A 127.2.%d.%d\n" % (h, o, i, h))
            for (zn, _, _, ns) in by_tld[t]:
                for h in (0, 1):
                    f.write("%s 86400 IN NS ns%d.%s\n" % (zn, h + 1, zn))
                    f.write("ns%d.%s 86400 IN A %s\n" % (h + 1, zn, ns[h]))
            if i == 0:
                f.write("%s 86400 IN NS ns1.%s\nns1.%s 86400 IN A 127.3.0.1\n" % (wild, wild, wild))

    # second-level zones; every name once in `names` as (qname, type)
    names = []
    nrec = 0
    data = {}  # (owner, type) -> [rdata], for the expected answers of the hot queries

    class Zone(list):
        def append(self, rr):
            o, _, _, t, rd = rr.split(" ", 4)
            data.setdefault((o, t), []).append(rd)
            list.append(self, rr)

    for j, (zn, tld, k, ns) in enumerate(zones):
        r = Zone()
        r.append(SOA.format(o=zn))
        r.append("%s 3600 IN NS ns1.%s" % (zn, zn))
        r.append("%s 3600 IN NS ns2.%s" % (zn, zn))
        r.append("%s 3600 IN A 10.%d.%d.1" % (zn, j >> 8 & 255, j & 255))
        r.append("%s 3600 IN MX 10 mail.%s" % (zn, zn))
        r.append('%s 3600 IN TXT "v=spf1 mx -all"' % zn)
        r.append("www.%s 3600 IN CNAME %s" % (zn, zn))
        r.append("mail.%s 3600 IN A 10.%d.%d.2" % (zn, j >> 8 & 255, j & 255))
        r.append("mail.%s 3600 IN AAAA %s" % (zn, v6(j, 2)))
        r.append("ns1.%s 3600 IN A %s" % (zn, ns[0]))
        r.append("ns2.%s 3600 IN A %s" % (zn, ns[1]))
        names += [(zn, rng.choice(["A", "A", "MX", "TXT"])), ("www." + zn, "A"),
                  ("mail." + zn, rng.choice(["A", "AAAA"])), ("ns1." + zn, "A"),
                  ("ns2." + zn, "A")]
        for i, h in enumerate(HOSTS, 1):
            o = h + "." + zn
            if i % 15 == 0:  # into another zone, as CDNs do
                tz = zones[(j * 7 + 3) % len(zones)][0]
                r.append("%s 3600 IN CNAME %s.%s" % (o, HOSTS[0], tz))
                names.append((o, "A"))
                continue
            if i % 9 == 0:
                r.append("%s 3600 IN CNAME %s.%s" % (o, HOSTS[i - 2], zn))
                names.append((o, "A"))
                continue
            r.append("%s 3600 IN A 10.%d.%d.%d" % (o, j >> 8 & 255, j & 255, 10 + i))
            types = ["A"]
            if i % 4 == 0:
                r.append("%s 3600 IN AAAA %s" % (o, v6(j, 10 + i)))
                types.append("AAAA")
            if i % 10 == 0:
                r.append('%s 3600 IN TXT "site-verification=%08x"' % (o, rng.getrandbits(32)))
                types.append("TXT")
            names.append((o, rng.choice(types)))
        nrec += len(r)
        with open(os.path.join(lab, "sld", zn[:-1] + ".zone"), "w") as f:
            f.write("\n".join(r) + "\n")
    with open(os.path.join(lab, "sld", wild[:-1] + ".zone"), "w") as f:
        f.write(SOA.format(o=wild) + "\n%s 3600 IN NS ns1.%s\nns1.%s 3600 IN A 127.3.0.1\n"
                "*.%s 3600 IN A 10.255.0.1\n" % (wild, wild, wild, wild))

    # servers.conf for tests/lab/start.sh: name kind addrs zones(zone=file,...)
    with open(os.path.join(lab, "servers.conf"), "w") as f:
        f.write("# generated by bench/lab/gen.py\n")
        f.write("root nsd 127.1.0.1,127.1.0.2 .=root.zone\n")
        f.write("tld nsd %s %s\n" % (
            ",".join("127.2.%d.%d" % (i, h) for i in range(len(TLDS)) for h in (1, 2)),
            ",".join("%s.=tld-%s.zone" % (t, t) for t in TLDS)))
        for k in range(a.sld_instances):
            zl = ["%s=sld/%s.zone" % (z[0], z[0][:-1]) for z in zones if z[2] == k]
            if k == 0:
                zl.append("%s=sld/%s.zone" % (wild, wild[:-1]))
            f.write("sld%d nsd %s %s\n" % (k, ",".join("127.3.%d.%d" % (k, h) for h in range(1, 5)),
                                          ",".join(zl)))

    def write(fn, qs):
        with open(os.path.join(qd, fn), "w") as f:
            f.write("".join("%s %s\n" % q for q in qs))

    cold = list(names)
    rng.shuffle(cold)
    write("cold", cold)
    hot = rng.sample(names, a.hot)
    write("hot", hot)
    # the answer section each hot query must get (CNAMEs followed; all targets are in the lab)
    with open(os.path.join(qd, "hot.expected"), "w") as f:
        for (n, t) in hot:
            for _ in range(8):
                cn = data.get((n, "CNAME"))
                if t == "CNAME" or not cn:
                    break
                f.write("%s CNAME %s\n" % (n, cn[0]))
                n = cn[0]
            for rd in data.get((n, t), []):
                f.write("%s %s %s\n" % (n, t, rd))
    seen = set()
    nx = []
    while len(nx) < 2 * a.nx:
        n = "x%08x.%s" % (rng.getrandbits(32), zones[rng.randrange(len(zones))][0])
        if n not in seen:
            seen.add(n)
            nx.append((n, "A"))
    write("nx-max", nx[:a.nx])
    write("nx-rate", nx[a.nx:])
    with open(os.path.join(a.out, "lab.txt"), "w") as f:
        f.write("root (2 addresses), %d TLDs on one NSD instance, %d second-level zones "
                "(+ %s wildcard) on %d NSD instances, %d names, %d records in the "
                "second-level zones\n" % (len(TLDS), len(zones), wild, a.sld_instances,
                                          len(names), nrec))


if __name__ == "__main__":
    main()
