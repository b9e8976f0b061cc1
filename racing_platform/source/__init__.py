"""The racing.com source layer: GraphQL client, response archive and parsers."""
