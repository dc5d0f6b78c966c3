// The benchmark's reference: the least a librdkafka forwarder has to do, in C, with the bridge's guarantees on the
// write side. It consumes batches from a source topic, copies each record's headers in C and adds a provenance
// header, and produces it to the same partition of a target topic with acks=all and idempotence (the timestamp
// kept). It stops when every partition reached its end and every record is acknowledged, and prints JSON.
// It has no resume, no loop guard, no lag or state: `make bench` compares the bridge with it. Its clients use the
// bridge's own librdkafka settings (KafkaConsumer.defaultProperties, KafkaProducer.defaultProperties), so the
// comparison is of the code, not of the configuration.
//
//   native-forward SOURCE TARGET SOURCE_TOPIC TARGET_TOPIC PARTITIONS [key=value consumer property ...]
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long delivered = 0, failed = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err) failed++; else delivered++;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "native-forward: %s: %s\n", key, error);
        exit(2);
    }
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: native-forward SOURCE TARGET SOURCE_TOPIC TARGET_TOPIC PARTITIONS [key=value ...]\n");
        return 2;
    }
    const char *source = argv[1], *target = argv[2], *source_topic = argv[3], *target_topic = argv[4];
    int partitions = atoi(argv[5]);
    char error[512];
    double start = seconds();

    rd_kafka_conf_t *consumer_conf = rd_kafka_conf_new();
    set(consumer_conf, "bootstrap.servers", source);
    set(consumer_conf, "group.id", "native-forward");
    set(consumer_conf, "enable.auto.commit", "false");
    set(consumer_conf, "enable.partition.eof", "true");
    set(consumer_conf, "enable.metrics.push", "false");
    set(consumer_conf, "fetch.wait.max.ms", "100");
    set(consumer_conf, "fetch.queue.backoff.ms", "5");
    set(consumer_conf, "fetch.max.bytes", "16777216");
    set(consumer_conf, "queued.max.messages.kbytes", "16384");
    set(consumer_conf, "queued.min.messages", "1000000");
    for (int i = 6; i < argc; i++) {
        char *equals = strchr(argv[i], '=');
        if (!equals) { fprintf(stderr, "native-forward: %s is not key=value\n", argv[i]); return 2; }
        *equals = 0;
        set(consumer_conf, argv[i], equals + 1);
    }
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, consumer_conf, error, sizeof error);
    if (!consumer) { fprintf(stderr, "native-forward: %s\n", error); return 1; }
    rd_kafka_poll_set_consumer(consumer);

    rd_kafka_conf_t *producer_conf = rd_kafka_conf_new();
    set(producer_conf, "bootstrap.servers", target);
    set(producer_conf, "enable.idempotence", "true");
    set(producer_conf, "acks", "all");
    set(producer_conf, "enable.metrics.push", "false");
    set(producer_conf, "linger.ms", "5");
    set(producer_conf, "batch.num.messages", "10000");
    set(producer_conf, "batch.size", "1000000");
    set(producer_conf, "queue.buffering.max.messages", "100000");
    set(producer_conf, "queue.buffering.max.kbytes", "65536");
    rd_kafka_conf_set_dr_msg_cb(producer_conf, on_delivery);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, producer_conf, error, sizeof error);
    if (!producer) { fprintf(stderr, "native-forward: %s\n", error); return 1; }
    rd_kafka_topic_t *topic = rd_kafka_topic_new(producer, target_topic, NULL);

    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(assignment, source_topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(consumer);

    static rd_kafka_message_t *batch[10000];
    int *at_end = calloc(partitions, sizeof(int));
    int ends = 0;
    long sent = 0;
    while (ends < partitions) {
        // Take what is ready; wait up to 5 ms only when nothing is.
        ssize_t count = rd_kafka_consume_batch_queue(queue, 0, batch, 10000);
        if (count == 0) {
            rd_kafka_message_t *first = rd_kafka_consume_queue(queue, 5);
            if (first) { batch[0] = first; count = 1 + rd_kafka_consume_batch_queue(queue, 0, batch + 1, 9999); }
        }
        for (ssize_t i = 0; i < count; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition < partitions && !at_end[m->partition]) { at_end[m->partition] = 1; ends++; }
            } else if (m->err) {
                fprintf(stderr, "native-forward: consume: %s\n", rd_kafka_message_errstr(m));
            } else {
                rd_kafka_headers_t *headers = NULL, *copy;
                copy = rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_headers_copy(headers)
                                                                                           : rd_kafka_headers_new(1);
                char provenance[256];
                int length = snprintf(provenance, sizeof provenance, "src/%s/%d/%lld", source_topic, m->partition, (long long)m->offset);
                rd_kafka_header_add(copy, "regionbridge.source", -1, provenance, length);
                rd_kafka_timestamp_type_t type;
                int64_t timestamp = rd_kafka_message_timestamp(m, &type);
                for (;;) {
                    rd_kafka_error_t *produce_error = rd_kafka_produceva(producer, (rd_kafka_vu_t[]){
                        {.vtype = RD_KAFKA_VTYPE_RKT, .u.rkt = topic},
                        {.vtype = RD_KAFKA_VTYPE_PARTITION, .u.i32 = m->partition},
                        {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
                        {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {m->key, m->key_len}},
                        {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {m->payload, m->len}},
                        {.vtype = RD_KAFKA_VTYPE_HEADERS, .u.headers = copy},
                        {.vtype = RD_KAFKA_VTYPE_TIMESTAMP, .u.i64 = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? 0 : timestamp}}, 7);
                    if (!produce_error) break;
                    if (rd_kafka_error_code(produce_error) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_error_destroy(produce_error);
                        rd_kafka_poll(producer, 1);
                        continue;
                    }
                    fprintf(stderr, "native-forward: produce: %s\n", rd_kafka_error_string(produce_error));
                    return 1;
                }
                sent++;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(producer, 0);
    }
    while (rd_kafka_outq_len(producer) > 0) rd_kafka_poll(producer, 10);
    double copied = seconds();
    printf("{\"sent\":%ld,\"delivered\":%ld,\"failed\":%ld,\"seconds\":%.3f}\n", sent, delivered, failed, copied - start);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(producer);
    free(at_end);
    return failed || delivered != sent ? 1 : 0;
}
