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

/// The lines of a valid topology before its `topics:` section.
private let clusters = """
    pair: p
    source:
      region: us-east
      bootstrap_servers: "127.0.0.1:19092"
    target:
      region: eu-west
      bootstrap_servers: "127.0.0.1:29092"

    """

/// A valid topology with `topics` replaced by the given lines (indented two spaces).
func document(topics: String) -> String {
    clusters + "topics:\n" + topics.split(separator: "\n").map { "  \($0)\n" }.joined()
}

/// A valid topology replicating `include` (a YAML list) followed by `extra` (top-level lines). The topology
/// takes lines 1-9.
func document(include: String = #"["a"]"#, appending extra: String) -> String {
    clusters + "topics:\n  include: \(include)\n" + extra
}
