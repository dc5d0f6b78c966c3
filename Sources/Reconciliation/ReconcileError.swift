import Replication

/// Why a reconciliation could not give a verdict.
package struct ReconcileError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The topology has no usable `reconcile:` section, or the options contradict each other. Exit 2.
        case configuration
        /// Postgres or Kafka could not be reached, or a query failed. Exit 1.
        case unreachable
        /// A Kafka cluster refused the client: a certificate, credentials or a permission. Exit 2.
        case refused
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// ``ExitCode/usage`` (2) for configuration and refusals, ``ExitCode/runtime`` (1) otherwise.
    package var exitCode: ExitCode { kind == .unreachable ? .runtime : .usage }

    package var description: String { message }
}
