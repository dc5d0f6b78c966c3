import Foundation
import Glibc

/// A bare HTTP/1.1 client on a blocking loopback socket: one request per connection (`Connection: close`), the
/// response read until the server closes. Unlike URLSession it never retries, and it tells a connection closed
/// without an answer (a killed server) apart from an answer.
package enum RawHTTP {
    /// What came back.
    package enum Reply: Sendable, Equatable {
        /// A complete response: status and body.
        case response(status: Int, body: String)
        /// The connection closed (or failed) before a complete response; what happened.
        case noResponse(String)

        /// The status, when a response came.
        package var status: Int? {
            if case .response(let status, _) = self { return status }
            return nil
        }

        /// The body, when a response came.
        package var body: String? {
            if case .response(_, let body) = self { return body }
            return nil
        }
    }

    /// An open connection with its request sent.
    package final class Connection: @unchecked Sendable {
        // @unchecked Sendable: the descriptor is used by one thread at a time (the test that owns it).
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        /// Closes without reading the answer.
        package func close() { _ = Glibc.close(fd) }
    }

    /// Sends one request and reads its response (at most `timeout` of silence).
    package static func request(port: Int, method: String = "GET", path: String, body: String? = nil, timeout: Duration = .seconds(60)) -> Reply {
        switch send(port: port, method: method, path: path, body: body, timeout: timeout) {
        case .failure(let why): return .noResponse(why.description)
        case .success(let connection): return read(connection)
        }
    }

    /// Connects and sends one request, without reading.
    package static func send(port: Int, method: String = "GET", path: String, body: String? = nil, timeout: Duration = .seconds(60)) -> Result<Connection, FixtureError> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(FixtureError("socket: errno \(errno)")) }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            return .failure(FixtureError("connect: errno \(code)"))
        }
        let payload = Array(body?.utf8 ?? "".utf8)
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { text += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let bytes = Array((text + "\r\n").utf8) + payload
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else {
                let code = errno
                _ = Glibc.close(fd)
                return .failure(FixtureError("send: errno \(code)"))
            }
            sent += written
        }
        return .success(Connection(fd: fd))
    }

    /// Reads the response of a connection until the server closes it, then closes it.
    package static func read(_ connection: Connection) -> Reply {
        defer { connection.close() }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[..<count])
                continue
            }
            if count < 0 && received.isEmpty { return .noResponse("recv: errno \(errno)") }
            break
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), text.hasPrefix("HTTP/1.1 "),
              let status = Int(text.dropFirst(9).prefix(3))
        else { return .noResponse(received.isEmpty ? "closed without an answer" : "incomplete answer: \(text.prefix(200))") }
        let head = text[..<split.lowerBound].lowercased()
        let body = String(text[split.upperBound...])
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)),
           body.utf8.count < length {
            return .noResponse("incomplete answer: \(body.utf8.count) of \(length) body bytes")
        }
        return .response(status: status, body: body)
    }
}
