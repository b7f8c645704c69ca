# target: cmdq
# file: vits/src/regs.c
# models: CBASER accepted while GITS_CTLR.Enabled (queue moved under the running ITS)
/^static void wr_cbaser/,/^}/ s/if (its_enabled(v)) {/if (0) {/
