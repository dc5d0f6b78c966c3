import Topology
import XCTest

/// The issues `parse` reports for `yaml`; fails the test if it parses.
func issues(
    _ yaml: String,
    environment: [String: String] = [:],
    file: StaticString = #filePath,
    line: UInt = #line
) -> [TopologyIssue] {
    do {
        let topology = try TopologyLoader.parse(yaml: yaml, environment: environment)
        XCTFail("expected issues, parsed \(topology)", file: file, line: line)
        return []
    } catch {
        return error.issues
    }
}

/// An issue's position, key and message, for compact exact assertions.
struct Reported: Equatable, CustomStringConvertible {
    let line: Int?
    let key: String
    let message: String

    init(_ line: Int?, _ key: String, _ message: String) {
        self.line = line
        self.key = key
        self.message = message
    }

    init(_ issue: TopologyIssue) {
        self.init(issue.line, issue.key, issue.message)
    }

    var description: String { "\(line.map(String.init) ?? "-") \(key): \(message)" }
}

func reported(_ yaml: String, environment: [String: String] = [:], line: UInt = #line) -> [Reported] {
    issues(yaml, environment: environment, line: line).map(Reported.init)
}

/// A valid topology with `topics` replaced by the given lines (indented two spaces).
func document(topics: String) -> String {
    """
    pair: p
    source:
      region: us-east
      bootstrap_servers: "127.0.0.1:19092"
    target:
      region: eu-west
      bootstrap_servers: "127.0.0.1:29092"
    topics:
    \(topics.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))

    """
}

/// A valid topology replicating `include` (a YAML list) followed by `extra` (top-level lines). The topology
/// takes lines 1-9.
func document(include: String = #"["a"]"#, appending extra: String) -> String {
    """
    pair: p
    source:
      region: us-east
      bootstrap_servers: "127.0.0.1:19092"
    target:
      region: eu-west
      bootstrap_servers: "127.0.0.1:29092"
    topics:
      include: \(include)
    \(extra)
    """
}
