# Helpers shared by the library, the app and the tests.

set(EPE_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare)

# epe_module(NAME SOURCES ... DEPS ... [PRIVATE_DEPS ...]): one static library per lib/epe/<module>.
# DEPS are what the module's headers expose (consumers get their include paths and flags);
# PRIVATE_DEPS only its sources use (still linked into the binaries, never visible upward).
function(epe_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(epe_${name} STATIC ${M_SOURCES})
  target_include_directories(epe_${name} PUBLIC ${PROJECT_SOURCE_DIR}/lib ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(epe_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  target_compile_options(epe_${name} PRIVATE ${EPE_WARNINGS})
  if(EPE_WITH_CUDA)
    target_compile_definitions(epe_${name} PUBLIC EPE_WITH_CUDA=1)
  endif()
endfunction()

# epe_torch_pch(TARGET): targets whose sources include <torch/torch.h> share one
# precompiled header (about 30 s per translation unit otherwise on a 2-core machine).
function(epe_torch_pch target)
  if(NOT TARGET epe_torch_pch_host)
    file(WRITE ${PROJECT_BINARY_DIR}/generated/epe_torch_pch_host.cpp "// host of the shared torch PCH\n")
    add_library(epe_torch_pch_host OBJECT ${PROJECT_BINARY_DIR}/generated/epe_torch_pch_host.cpp)
    # Same usage requirements (OpenMP, defines) as the modules, or GCC rejects the PCH.
    target_link_libraries(epe_torch_pch_host PRIVATE epe_runtime ${TORCH_LIBRARIES})
    target_compile_options(epe_torch_pch_host PRIVATE ${EPE_WARNINGS})
    target_precompile_headers(epe_torch_pch_host PRIVATE <torch/torch.h>)
    set_target_properties(epe_torch_pch_host PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  endif()
  target_precompile_headers(${target} REUSE_FROM epe_torch_pch_host)
endfunction()
