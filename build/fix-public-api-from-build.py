#!/usr/bin/env python3
# Second pass of build/update-public-api.sh: reads a build log on stdin and applies what the PublicApiAnalyzers report
# (RS0016: add the symbol to that project's PublicAPI.Unshipped.txt; RS0017: remove it), for the members the
# `dotnet format` code fix misses (a record's compiler-made members after the record changed).
import re, sys, collections
add = collections.defaultdict(set); remove = collections.defaultdict(set)
pat = re.compile(r"error (RS0016|RS0017): Symbol '(.*?)' (?:is not part of|is part of) .*\[(.*?\.csproj)\]")
for line in sys.stdin:
    m = pat.search(line)
    if not m: continue
    code, symbol, proj = m.groups()
    api = proj.rsplit('/', 1)[0] + '/PublicAPI.Unshipped.txt'
    (add if code == 'RS0016' else remove)[api].add(symbol)
for api in set(add) | set(remove):
    lines = open(api).read().splitlines()
    head, body = lines[:1], [l for l in lines[1:] if l and l not in remove[api]]
    body = sorted(set(body) | add[api], key=lambda s: s.lstrip('~').split(' ', 1)[-1] if s.startswith(('override ', 'static ', 'virtual ', 'abstract ', 'const ')) else s)
    open(api, 'w').write('\n'.join(head + body) + '\n')
    print(f"{api}: +{len(add[api])} -{len(remove[api])}")
