/// One problem in a topology file.
///
/// Messages never quote values from the file or the environment, so secrets cannot leak through them.
package struct TopologyIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file's path as given, or `<string>` for parsed text.
    package var file: String
    /// 1-based line of the offending node, as an editor shows it; nil when the problem has no position.
    package var line: Int?
    /// 1-based column of the offending node.
    package var column: Int?
    /// Dotted key path, e.g. `source.region` or `topics.include[1]` (0-based); empty for the whole file.
    package var key: String
    /// What is wrong.
    package var message: String

    /// Creates an issue from its parts.
    package init(file: String, line: Int? = nil, column: Int? = nil, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `FILE:LINE:COLUMN: KEY: MESSAGE`, leaving out the parts that are missing.
    package var description: String {
        let position = [line, column].compactMap { $0.map(String.init) }
        let location = ([file] + position).joined(separator: ":")
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

/// A topology file that could not be read or is invalid.
package struct TopologyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem found, in file order.
    package var issues: [TopologyIssue]

    /// Creates an error reporting `issues`.
    package init(issues: [TopologyIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    package var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
