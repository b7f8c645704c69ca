# target: cmdq
# file: vits/src/lpi.c
# models: INTID below 8192 accepted
s/if (intid < LPI_INTID_BASE)/if (intid < LPI_INTID_BASE - 1)/
