// The NCCL process group: CUDA tensors of one device, collectives on a
// stream of their own, ordered after the device's compute stream and polled
// against the group's timeout. Built in CUDA builds only (DLT_WITH_NCCL);
// the HIP build has no RCCL and leaves it out.
#pragma once

#include <memory>

#include "dlt/dist/process_group.h"

namespace dlt::dist {

// Collective over the ranks of `bootstrap` (the MPI group of the same job, or
// a local group for one rank): rank 0's NCCL unique id goes to every rank by
// bootstrap.broadcast(), then each rank joins the communicator on its GPU
// `device_index` (cuda:<device_index>; one rank per GPU: NCCL cannot put two
// ranks on one). Rank, world size and local rank are the bootstrap's, and
// so is the timeout at creation (set_timeout() changes it later). On a
// timeout or an NCCL error the communicator is aborted and then the
// bootstrap (bootstrap.abort()), so `bootstrap` must outlive the group.
std::unique_ptr<ProcessGroup> make_nccl_group(ProcessGroup& bootstrap, int device_index);

}  // namespace dlt::dist
