# target: cmdq
# file: vits/src/cmdq.c
# models: unbounded work per trap (budget off by one)
s/done >= budget)/done > budget)/
