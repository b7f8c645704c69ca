# target: cmdq
# file: vits/src/commands.c
# models: translation cache not flushed on MAPC
/^static enum vits_reason cmd_mapc/,/^}/ s/vits_xlate_flush(v);/(void)0;/
