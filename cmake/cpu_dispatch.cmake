# Runtime CPU dispatch (lib/dlt/core/cpu_isa.h). A portable build compiles
# the vectorised kernel files below once more for each instruction set
# beyond baseline x86-64, each copy in its own namespace
# (kernels/cpu/isa_namespace.h) and registering its kernels for its set.
#
# The copies go last in DLT_SOURCES: where two objects hold the same inline
# function (a std:: template, a header's helper) the linker keeps the first,
# and that must be a baseline one. tests/cpu_dispatch/check_isa_code.sh checks
# the linked binary: no instruction beyond baseline outside the copies.
set(DLT_ISA_KERNEL_FILES attention binary dropout fill index loss norm optim pool recurrent reduce rotary shape softmax unary)
set(DLT_ISA_FLAGS_avx2 -march=x86-64-v3)
set(DLT_ISA_FLAGS_avx512 -march=x86-64-v4)
set(DLT_ISA_FLAGS_avx512_bf16 -march=x86-64-v4 -mavx512bf16)

# dlt never unmasks floating-point exceptions; without -fno-trapping-math
# GCC keeps a NaN test (x != x ? x : y) as a branch on AVX2 and SSE instead
# of a vector blend, and the loops around it (exp, tanh, softmax, GELU) stay
# scalar. Nor do the kernels read errno; with it, GCC must call sqrtf for a
# negative argument's errno, so a loop with a square root (Adam's and
# RMSprop's updates) ran one element at a time. Neither changes a result.
set(DLT_KERNEL_MATH_FLAGS -fno-trapping-math -fno-math-errno)
file(GLOB DLT_CPU_KERNEL_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cpu/*.cpp)
set_source_files_properties(${DLT_CPU_KERNEL_SOURCES} PROPERTIES COMPILE_OPTIONS "${DLT_KERNEL_MATH_FLAGS}")

set(DLT_ISA_SOURCES)
if(NOT DLT_NATIVE AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  foreach(isa avx2 avx512 avx512_bf16)
    foreach(name IN LISTS DLT_ISA_KERNEL_FILES)
      set(copy ${CMAKE_BINARY_DIR}/cpu_isa/${isa}/${name}.cpp)
      file(CONFIGURE OUTPUT ${copy} CONTENT "#include \"kernels/cpu/${name}.cpp\"\n")
      set_source_files_properties(${copy} PROPERTIES COMPILE_OPTIONS "${DLT_ISA_FLAGS_${isa}};${DLT_KERNEL_MATH_FLAGS}"
                                                     COMPILE_DEFINITIONS DLT_KERNEL_ISA=${isa})
      list(APPEND DLT_ISA_SOURCES ${copy})
    endforeach()
  endforeach()
endif()
