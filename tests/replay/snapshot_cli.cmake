# its-trace checkpoint and replay --from-checkpoint / --start-at: exit codes, JSON,
# the same divergence from a snapshot as from the start, corrupted snapshots.
# Run with -DITS_TRACE=... -DTEST_SNAPSHOT=... -DWORK=... (a scratch directory).
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

run(0 ${TEST_SNAPSHOT} --fixtures ${WORK})

# Writing snapshots.
run(0 ${ITS_TRACE} checkpoint --every 300 ${WORK}/plain.itr -o ${WORK}/ck.itr)
expect_match("${OUT}" "[0-9]+ snapshots" "checkpoint says how many")
run(0 ${ITS_TRACE} checkpoint --json --every 300 ${WORK}/plain.itr -o ${WORK}/ck.itr)
expect_match("${OUT}" "\"snapshots\":[1-9]" "checkpoint --json")
run(0 ${ITS_TRACE} dump ${WORK}/ck.itr)
expect_match("${OUT}" "SNAPSHOT total=" "dump decodes SNAPSHOT")
expect_match("${OUT}" "^# .itr 1.1" "a trace with snapshots is format 1.1")
run(2 ${ITS_TRACE} checkpoint ${WORK}/plain.itr)
run(2 ${ITS_TRACE} checkpoint --every 0 ${WORK}/plain.itr -o ${WORK}/x.itr)
run(0 ${ITS_TRACE} checkpoint --help)

# Starting at a snapshot.
run(0 ${ITS_TRACE} replay ${WORK}/ck.itr)
run(0 ${ITS_TRACE} replay --from-checkpoint 2 ${WORK}/ck.itr)
expect_match("${OUT}" "started +at the snapshot at record [0-9]+" "replay says where it started")
run(0 ${ITS_TRACE} replay --json --from-checkpoint 1 ${WORK}/snap.itr)
expect_match("${OUT}" "\"started_at\":[0-9]+" "replay --json started_at")
expect_match("${OUT}" "\"diverged\":false" "no divergence from snapshot 1")
string(REGEX MATCH "\"started_at\":([0-9]+)" m "${OUT}")
set(at ${CMAKE_MATCH_1})
run(0 ${ITS_TRACE} replay --json --start-at ${at} ${WORK}/snap.itr)
expect_match("${OUT}" "\"started_at\":${at}[,}]" "--start-at the same snapshot")
run(0 ${ITS_TRACE} replay --json ${WORK}/snap.itr)
expect_match("${OUT}" "\"started_at\":null" "a full replay: started_at null")

# The same divergence from the start and from snapshot 2 (before the altered record).
run(1 ${ITS_TRACE} replay --json ${WORK}/snap-altered.itr)
string(REGEX MATCH "\"divergence\":\\{\"index\":([0-9]+)" m "${OUT}")
set(full_at ${CMAKE_MATCH_1})
run(1 ${ITS_TRACE} replay --json --from-checkpoint 2 ${WORK}/snap-altered.itr)
expect_match("${OUT}" "\"divergence\":\\{\"index\":${full_at}," "same divergence index from snapshot 2")
run(1 ${ITS_TRACE} replay --from-checkpoint 2 ${WORK}/snap-altered.itr)
expect_match("${OUT}" "DIVERGED at record ${full_at}" "divergence text from snapshot 2")

# Errors: exit 2.
run(2 ${ITS_TRACE} replay --from-checkpoint 2 ${WORK}/snap-corrupt.itr)
expect_match("${ERR}" "checksum" "a corrupted snapshot is named")
run(0 ${ITS_TRACE} replay --from-checkpoint 1 ${WORK}/snap-corrupt.itr)
run(2 ${ITS_TRACE} replay --from-checkpoint 99 ${WORK}/snap.itr)
expect_match("${ERR}" "no snapshot 99" "a missing snapshot is named")
run(2 ${ITS_TRACE} replay --from-checkpoint 1 ${WORK}/plain.itr)
run(2 ${ITS_TRACE} replay --start-at 1 ${WORK}/snap.itr)
run(2 ${ITS_TRACE} replay --from-checkpoint 0 ${WORK}/snap.itr)
run(2 ${ITS_TRACE} replay --from-checkpoint x ${WORK}/snap.itr)
