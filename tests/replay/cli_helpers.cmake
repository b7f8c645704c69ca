# Helpers of the command-line tests (cli.cmake, snapshot_cli.cmake): run a command and
# check its exit status, match its output.  Expects WORK (a scratch directory).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(run expect_rc)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expect_rc)
    message(FATAL_ERROR "FAIL '${ARGN}': exit ${rc}, expected ${expect_rc}\n${out}\n${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
  set(ERR "${err}" PARENT_SCOPE)
  message(STATUS "PASS exit ${rc}: ${ARGN}")
endfunction()

function(expect_match text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "FAIL ${what}: no match for '${regex}' in:\n${text}")
  endif()
  message(STATUS "PASS ${what}")
endfunction()
