# A fuzz input as a reproducer outside the fuzzer (docs/fuzzing.md, "Reproducing a
# finding"): the standalone driver writes the input's .itr, its-trace replays it on
# the current engine with no divergence (the input passes, and the trace was recorded
# on this engine), and its-trace minimize shrinks it under a shell check.
# Run with -DITS_TRACE=... -DFUZZ=... (fuzz_cmdq) -DINPUT=... -DWORK=...
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

run(0 ${FUZZ} --itr ${WORK}/in.itr ${INPUT})
run(0 ${ITS_TRACE} replay ${WORK}/in.itr)
expect_match("${OUT}" "no divergence" "the fuzz input's trace replays clean")
expect_match("${OUT}" "physical" "replay summary")

# The check: a candidate "fails" (3) while it replays clean and a MOVI still succeeds.
file(WRITE ${WORK}/check.sh "#!/bin/sh\n\"${ITS_TRACE}\" replay \"$1\" >/dev/null 2>&1 || exit 0\n\"${ITS_TRACE}\" dump \"$1\" | grep -q ' CMD slot=[0-9]* MOVI .*outcome=ok' && exit 3\nexit 0\n")
run(3 sh ${WORK}/check.sh ${WORK}/in.itr)
run(0 ${ITS_TRACE} minimize ${WORK}/in.itr --until "sh ${WORK}/check.sh {}"
    -o ${WORK}/min.itr --quiet)
expect_match("${OUT}" "commands +[0-9]+ -> [1-4]\n" "minimize keeps at most 4 commands")
run(0 ${ITS_TRACE} replay ${WORK}/min.itr)
expect_match("${OUT}" "no divergence" "the minimized trace replays clean")
