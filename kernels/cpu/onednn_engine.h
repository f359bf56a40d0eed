// The one oneDNN CPU engine of the process and a stream per calling thread.
// Every oneDNN-backed kernel (convolution, matmul) executes through these, so
// primitives created for the engine can be cached and shared.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace dlt::cpu {

dnnl::engine& onednn_engine();
// Streams are not meant for concurrent use; each thread gets its own.
dnnl::stream& onednn_stream();

}  // namespace dlt::cpu
