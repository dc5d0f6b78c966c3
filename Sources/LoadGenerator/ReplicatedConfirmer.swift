import Foundation
import Glibc
import Synchronization

/// `loadgen --confirm URL`: after each record's produce acknowledgement, asks the bridge's `/v1/replicated` whether
/// the target holds it (each request on one of `concurrency` worker threads of its own, so the waits overlap as a
/// payment service's would and never queue behind a shared pool), and times produce acknowledgement → answer.
final class ReplicatedConfirmer: Sendable {
    /// One confirmation.
    struct Confirmation: Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: String
        var status: Int?
        var body: String
        var milliseconds: Double
    }

    private let host: String
    private let port: Int
    private let timeout: String
    private let printEach: Bool
    private struct Job: Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: String
        var acknowledgedAt: ContinuousClock.Instant
    }

    /// Jobs not taken yet; `nil` tells a worker to stop.
    private let jobs = Mutex<[Job?]>([])
    private let available = DispatchSemaphore(value: 0)
    private let slots: DispatchSemaphore
    private let workers: Int
    private let stopped = DispatchGroup()
    private let results = Mutex<[Confirmation]>([])

    /// - Parameters:
    ///   - url: `http://HOST:PORT` of the bridge's listener.
    ///   - timeout: the `timeout` parameter of each request.
    ///   - concurrency: requests in flight at most.
    ///   - printEach: print one line per confirmation.
    init?(url: String, timeout: String, concurrency: Int, printEach: Bool) {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = components.port ?? 80
        self.timeout = timeout
        self.printEach = printEach
        self.workers = max(1, concurrency)
        self.slots = DispatchSemaphore(value: workers)
        for index in 0..<workers {
            stopped.enter()
            let thread = Thread { [self] in
                while true {
                    available.wait()
                    guard let job = jobs.withLock({ $0.removeFirst() }) else { break }
                    run(job)
                    slots.signal()
                }
                stopped.leave()
            }
            thread.name = "loadgen-confirm-\(index)"
            thread.start()
        }
    }

    /// Asks about one acknowledged record; returns at once (blocks only while `concurrency` requests are in flight).
    func confirm(topic: String, partition: Int32, offset: Int64, key: String, acknowledgedAt: ContinuousClock.Instant) {
        slots.wait()
        jobs.withLock { $0.append(Job(topic: topic, partition: partition, offset: offset, key: key, acknowledgedAt: acknowledgedAt)) }
        available.signal()
    }

    private func run(_ job: Job) {
        let (topic, partition, offset, key, acknowledgedAt) = (job.topic, job.partition, job.offset, job.key, job.acknowledgedAt)
        do {
            let path = "/v1/replicated?topic=\(topic)&partition=\(partition)&offset=\(offset)&timeout=\(timeout)"
            let (status, body) = Self.get(host: host, port: port, path: path)
            let elapsed = ContinuousClock.now - acknowledgedAt
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            let confirmation = Confirmation(topic: topic, partition: partition, offset: offset, key: key, status: status, body: body, milliseconds: milliseconds)
            if printEach {
                let verdict = status == 200 ? "confirmed: the target region holds it" : "NOT confirmed (\(status.map(String.init) ?? "no answer")): \(body.trimmingCharacters(in: .whitespacesAndNewlines))"
                let line = "   \(key) -> \(topic)/\(partition)@\(offset): waited \(String(format: "%.1f", milliseconds)) ms after the produce acknowledgement; \(verdict)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            results.withLock { $0.append(confirmation) }
        }
    }

    /// Waits for every request; the confirmations.
    func finish() -> [Confirmation] {
        jobs.withLock { $0.append(contentsOf: Array(repeating: nil, count: workers)) }
        for _ in 0..<workers { available.signal() }
        stopped.wait()
        return results.withLock { $0 }
    }

    /// `n confirmed, m not; produce ack -> 200: p50 .. p99 .. p99.9 .. max ms`.
    static func summary(_ confirmations: [Confirmation]) -> String {
        let confirmed = confirmations.filter { $0.status == 200 }.map(\.milliseconds).sorted()
        let failed = confirmations.count - confirmed.count
        guard !confirmed.isEmpty else { return "0 of \(confirmations.count) records confirmed" }
        func quantile(_ q: Double) -> String {
            String(format: "%.2f", confirmed[min(confirmed.count - 1, Int((Double(confirmed.count) * q).rounded(.up)) - 1)])
        }
        return "\(confirmed.count) of \(confirmations.count) records confirmed (\(failed) not); produce ack -> 200: p50 \(quantile(0.5)) ms, p99 \(quantile(0.99)) ms, p99.9 \(quantile(0.999)) ms, max \(String(format: "%.2f", confirmed.last!)) ms"
    }

    /// One GET on a new loopback connection (`Connection: close`): status and body, or `nil` and why.
    static func get(host: String, port: Int, path: String) -> (Int?, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (nil, "socket failed") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return (nil, "not an IPv4 address: \(host)") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return (nil, "cannot connect to \(host):\(port)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return (nil, "send failed") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received.append(contentsOf: buffer[..<count])
        }
        let text = String(decoding: received, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)), let split = text.range(of: "\r\n\r\n") else {
            return (nil, "connection closed without an answer")
        }
        return (status, String(text[split.upperBound...]))
    }
}
