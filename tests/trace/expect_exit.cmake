# Run a command and check its exit status (and optionally its stderr or stdout).
#   cmake -DCMD="prog;arg;..." -DEXPECT=2 [-DSTDERR_RE=regex] [-DSTDOUT_RE=regex]
#         [-DINPUT=file] -P expect_exit.cmake
if(INPUT)
  execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  INPUT_FILE ${INPUT})
else()
  execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endif()
if(NOT rc STREQUAL EXPECT)
  message(FATAL_ERROR "FAIL: expected exit ${EXPECT}, got ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(STDERR_RE AND NOT err MATCHES "${STDERR_RE}")
  message(FATAL_ERROR "FAIL: stderr does not match '${STDERR_RE}':\n${err}")
endif()
if(STDOUT_RE AND NOT out MATCHES "${STDOUT_RE}")
  message(FATAL_ERROR "FAIL: stdout does not match '${STDOUT_RE}':\n${out}")
endif()
message("PASS: exit ${rc}")
