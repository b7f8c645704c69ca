# target: cmdq
# file: vits/src/commands.c
# models: translation cache not flushed on DISCARD
/^static enum vits_reason cmd_discard/,/^}/s/^\tvits_xlate_drop(/\t(void)(/
