// Process-wide numerics switches of the accelerator back ends.
#pragma once

namespace dlt {

// Whether f32 matmuls and convolutions on a GPU may use TF32 tensor cores
// (10-bit mantissa inputs, f32 accumulation): faster, about 1e-3 relative
// error. Off by default, so f32 means full f32; DLT_ALLOW_TF32=1 in the
// environment turns it on at start-up.
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace dlt
