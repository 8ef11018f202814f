"""Who is calling: roles, API tokens, staff sessions and accounts, the sign-in pages."""
