#pragma once
// <mpi.h> without Open MPI's (deprecated, slow to parse) C++ bindings: the
// backend uses the C API only. Include this instead of <mpi.h>.

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
