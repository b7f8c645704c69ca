# target: cmdq
# file: vits/src/commands.c
# models: translation cache not flushed on DISCARD
/^\tr.d->nr_mapped--;/{n;s/vits_xlate_drop/(void)/}
