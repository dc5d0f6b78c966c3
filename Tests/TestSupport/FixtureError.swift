/// A fixture could not do what it was asked: a missing tool, a server that did not start,
/// a process that timed out. The message says what happened and, where there is one, ends
/// with the tail of the relevant log.
package struct FixtureError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for a test failure message.
    package let message: String

    /// Creates an error with `message`.
    package init(_ message: String) {
        self.message = message
    }

    /// The message.
    package var description: String { message }
}
