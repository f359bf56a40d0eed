// The MPI process group (OpenMPI): CPU tensors, blocking collectives (each
// Work is done when returned) under a watchdog thread that ends the job when
// one outlasts the group's timeout. Built with -DDLT_MPI=ON only.
#pragma once

#include <memory>

#include "dlt/dist/process_group.h"

namespace dlt::dist {

// Calls MPI_Init_thread (funneled: only the main thread talks to MPI) unless
// MPI is already running, and returns the group of MPI_COMM_WORLD.
std::unique_ptr<ProcessGroup> make_mpi_group();
// MPI_Finalize, once, if MPI was started by make_mpi_group().
void finalize_mpi();

}  // namespace dlt::dist
