//! Tests of the aws backend without a network: mocked SDK clients.
