# The its-trace replay, whatif, diff and minimize command lines: exit codes, JSON keys,
# determinism, damaged input.  Run with -DITS_TRACE=... -DTEST_REPLAY=... -DCORPUS=...
# -DWORK=... (a scratch directory).
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

run(0 ${TEST_REPLAY} --fixtures ${WORK})

# replay
run(0 ${ITS_TRACE} replay ${CORPUS}/boot-nvme-smp2.itr)
expect_match("${OUT}" "no divergence" "replay text summary")
expect_match("${OUT}" "inferred" "replay says the result rests on inferred input")
run(0 ${ITS_TRACE} replay --json ${CORPUS}/wrap-64k.itr)
foreach(k diverged divergence guest_commands physical_commands amplification)
  expect_match("${OUT}" "\"${k}\":" "replay --json has ${k}")
endforeach()
expect_match("${OUT}" "\"diverged\":false" "wrap-64k does not diverge")
run(0 ${ITS_TRACE} replay ${WORK}/clean.itr)
run(1 ${ITS_TRACE} replay ${WORK}/altered.itr)
expect_match("${OUT}" "DIVERGED at record 1[0-9][0-9]" "divergence text names the record")
expect_match("${OUT}" "expected +INJECT" "divergence shows what was expected")
run(1 ${ITS_TRACE} replay --json ${WORK}/altered.itr)
expect_match("${OUT}" "\"diverged\":true,\"divergence\":\\{\"index\":" "divergence JSON object")
run(0 ${ITS_TRACE} replay --json ${WORK}/clean.itr)
set(first "${OUT}")
run(0 ${ITS_TRACE} replay --json ${WORK}/clean.itr)
if(NOT first STREQUAL OUT)
  message(FATAL_ERROR "FAIL replaying twice is not byte-identical")
endif()
message(STATUS "PASS replaying twice is byte-identical (CLI)")

# Damaged and hostile inputs: exit 2 with a message, never a crash.
# A trace cut in half (head(1) writes the bytes; cmake cannot write binary).
find_program(HEAD head)
if(HEAD)
  file(SIZE ${WORK}/clean.itr sz)
  math(EXPR keep "${sz} / 2")
  execute_process(COMMAND ${HEAD} -c ${keep} ${WORK}/clean.itr OUTPUT_FILE ${WORK}/cut.itr)
  run(2 ${ITS_TRACE} replay ${WORK}/cut.itr)
  expect_match("${ERR}" "damaged" "a truncated trace says it is damaged")
  run(2 ${ITS_TRACE} whatif ${WORK}/cut.itr)
endif()
file(WRITE ${WORK}/garbage.itr "this is not a trace at all\n")
run(2 ${ITS_TRACE} replay ${WORK}/garbage.itr)
run(2 ${ITS_TRACE} replay ${WORK}/does-not-exist.itr)
run(2 ${ITS_TRACE} replay)
run(2 ${ITS_TRACE} replay --policy nonsense ${WORK}/clean.itr)
run(0 ${ITS_TRACE} replay --help)

# whatif
run(0 ${ITS_TRACE} whatif ${CORPUS}/wrap-64k.itr)
expect_match("${OUT}" "forward +eager +lazy +lazy-global +virtual" "whatif table header")
expect_match("${OUT}" "equivalent +yes +yes +yes +yes +yes" "whatif equivalence row")
run(0 ${ITS_TRACE} whatif --json --policies forward,virtual ${WORK}/clean.itr)
foreach(k policy physical_commands global_commands physical_syncs spurious_host_lpis amplification equivalent)
  expect_match("${OUT}" "\"${k}\":" "whatif --json has ${k}")
endforeach()
run(2 ${ITS_TRACE} whatif --policies forward,bogus ${WORK}/clean.itr)

# diff
run(0 ${ITS_TRACE} diff ${WORK}/clean.itr ${WORK}/clean.itr)
run(1 ${ITS_TRACE} diff ${WORK}/clean.itr ${WORK}/altered.itr)
expect_match("${OUT}" "A record +1[0-9][0-9] +INJECT" "diff names the first different output")
run(1 ${ITS_TRACE} diff --json ${WORK}/clean.itr ${WORK}/virtual.itr)
expect_match("${OUT}" "\"differ\":true" "diff --json across policies")
run(2 ${ITS_TRACE} diff ${WORK}/clean.itr)

# minimize
run(0 ${ITS_TRACE} minimize -q ${WORK}/planted.itr --until divergence -o ${WORK}/min.itr)
expect_match("${OUT}" "commands +[0-9]+ -> ([0-9]|10)\n" "minimize shrinks to <= 10 commands")
run(1 ${ITS_TRACE} replay ${WORK}/min.itr)
run(2 ${ITS_TRACE} minimize -q ${WORK}/clean.itr --until divergence -o ${WORK}/x.itr)
run(2 ${ITS_TRACE} minimize -q ${WORK}/clean.itr -o ${WORK}/x.itr)
