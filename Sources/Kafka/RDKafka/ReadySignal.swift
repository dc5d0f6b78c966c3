import CRdKafka
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wakes one waiting thread when any of several librdkafka queues gets something to read, or when another
/// thread calls ``signal()``: a non-blocking pipe that librdkafka writes to when a queue goes from empty to
/// non-empty (`rd_kafka_queue_io_event_enable`).
///
/// A loop that serves a consumer and producers waits in ``wait(timeout:)`` instead of in any one client's poll,
/// so a delivery report does not wait for a fetch and a fetch does not wait for a delivery report. librdkafka
/// writes only on the empty-to-non-empty edge: after a wake-up, read every queue until it is empty (or keep
/// reading without waiting while one is known to hold more).
package final class ReadySignal: @unchecked Sendable {
    // @unchecked Sendable: two file descriptors, fixed after init; read(2)/write(2)/poll(2) are thread-safe.
    private let readEnd: Int32
    let writeEnd: Int32

    /// Creates the pipe.
    /// - Throws: `KafkaError` when the pipe cannot be created.
    package init() throws(KafkaError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw KafkaError(code: .clientCreation, message: "cannot create a pipe for queue events: errno \(errno)")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Waits until something was signalled or `timeout` passed; `true` when woken by a signal. Clears the
    /// signals that arrived.
    @discardableResult
    package func wait(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        let woken = poll(&descriptor, 1, timeout.milliseconds) > 0
        if woken { drain() }
        return woken
    }

    /// Wakes the waiting thread (from any thread).
    package func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    /// Makes librdkafka signal when `queue` becomes non-empty.
    func watch(_ queue: OpaquePointer) {
        var byte: UInt8 = 1
        rd_kafka_queue_io_event_enable(queue, writeEnd, &byte, 1)
    }

    /// Stops signalling for `queue` (before it is destroyed or given to another signal).
    static func unwatch(_ queue: OpaquePointer) {
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
    }
}
