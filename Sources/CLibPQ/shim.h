#ifndef REGIONBRIDGE_CLIBPQ_SHIM_H
#define REGIONBRIDGE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
