#ifndef REGIONBRIDGE_CRDKAFKA_SHIM_H
#define REGIONBRIDGE_CRDKAFKA_SHIM_H
// librdkafka 2.1 or newer (found through pkg-config `rdkafka`).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
