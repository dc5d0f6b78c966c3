import Glibc
import Synchronization

/// Ports already handed out by ``freeLoopbackPort()`` in this process.
private let handedOutPorts = Mutex<Set<Int>>([])

/// Returns a TCP port on 127.0.0.1 that was free a moment ago and that this process has not
/// handed out before.
///
/// Binds a socket to `127.0.0.1:0`, reads the port the kernel chose, and closes the socket.
/// Another process may still take the port before the caller binds it; fixtures that start
/// servers retry with a new port when that happens.
package func freeLoopbackPort() throws -> Int {
    for _ in 0..<100 {
        let port = try bindEphemeralLoopbackPort()
        if handedOutPorts.withLock({ $0.insert(port).inserted }) {
            return port
        }
    }
    throw FixtureError("could not find a loopback port not already handed out in 100 tries")
}

/// Binds `127.0.0.1:0`, returns the chosen port, closes the socket.
private func bindEphemeralLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket() failed: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { throw FixtureError("bind(127.0.0.1:0) failed: \(String(cString: strerror(errno)))") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw FixtureError("getsockname failed: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// `127.0.0.1:port` as a `sockaddr_in`.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}
