/// When replication lag raises alerts: the `lag:` section of a topology file.
///
/// ```yaml
/// lag:
///   warn_seconds: 5        # default 5
///   critical_seconds: 60   # default 60; at least warn_seconds
///   for: 30s               # default 30s; how long a condition must hold before it fires (or resolves)
/// ```
package struct LagSettings: Sendable, Equatable {
    /// Seconds behind above which a partition's lag is a warning. Default 5.
    package var warnSeconds: Double
    /// Seconds behind above which a partition's lag is critical. Default 60; never below `warnSeconds`.
    package var criticalSeconds: Double
    /// How long a condition must hold before its alert changes state. Default 30 s.
    package var holdFor: Duration

    /// Creates lag settings; the defaults are those of a file without a `lag:` section.
    package init(warnSeconds: Double = 5, criticalSeconds: Double = 60, holdFor: Duration = .seconds(30)) {
        self.warnSeconds = warnSeconds
        self.criticalSeconds = criticalSeconds
        self.holdFor = holdFor
    }
}

/// Where the metrics and health endpoint listens: the `metrics:` section of a topology file.
///
/// ```yaml
/// metrics:
///   listen: "127.0.0.1:9464"   # default: loopback only
/// ```
package struct MetricsSettings: Sendable, Equatable {
    /// Host name or address to bind, without brackets for IPv6. Default `127.0.0.1`.
    package var host: String
    /// TCP port. Default 9464.
    package var port: Int

    /// Creates metrics settings; the defaults are those of a file without a `metrics:` section.
    package init(host: String = "127.0.0.1", port: Int = 9464) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port` with a port in 1...65535; nil for anything else.
    package init?(listen text: String) {
        guard let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
              text[text.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isWholeNumber })
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            return nil  // an IPv6 address must be written in brackets
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else {
            return nil
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with an IPv6 host in brackets.
    package var listen: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
