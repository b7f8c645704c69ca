# A multidomain fuzz input as a reproducer (docs/fuzzing.md, "Reproducing a finding"):
# the standalone driver writes one trace of every domain, and its-trace replays each
# domain's engine side against a host of its own with no divergence: the physical
# progress the recording's embedder saw ("vits-phys-done" notes) answers phys_done,
# physical names are compared up to renaming, an unassignment is matched with the
# teardown it recorded before it.  A domain the trace does not hold is bad input.
# Run with -DITS_TRACE=... -DFUZZ=... (fuzz_multidomain) -DINPUT=... -DWORK=...
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

run(0 ${FUZZ} --itr ${WORK}/md.itr ${INPUT})
run(0 ${ITS_TRACE} dump ${WORK}/md.itr)
expect_match("${OUT}" "vits-phys-done" "the trace holds the physical progress")
foreach(d 0 1)
  run(0 ${ITS_TRACE} replay --domain ${d} ${WORK}/md.itr)
  expect_match("${OUT}" "no divergence" "domain ${d} replays clean")
endforeach()
run(2 ${ITS_TRACE} replay --domain 9 ${WORK}/md.itr)
expect_match("${ERR}" "no domain 9" "an absent domain is refused")
