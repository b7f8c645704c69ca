# mutant.sh: sourced by run-zoo.sh and reproduce.sh (ROOT set): one mutant's header
# and its copy of the tree.

# mutant_info NAME: sets m (the .sed script), target and file from its header.
mutant_info() {
	m=$ROOT/fuzz/zoo/mutants/$1.sed
	target=$(sed -n 's/^# target: //p' "$m")
	file=$(sed -n 's/^# file: //p' "$m")
}

# mutant_tree DIR: a copy of the tree (no build directories, no VCS data) in DIR with
# the mutant applied to $file; fails when the script changed nothing (the file moved on
# and the mutant must follow it).
mutant_tree() {
	mkdir -p "$1"
	(cd "$ROOT" && tar --exclude='./build*' --exclude='./.git' -cf - .) | (cd "$1" && tar xf -)
	sed -i -f "$m" "$1/$file"
	! cmp -s "$ROOT/$file" "$1/$file"
}
