"""Business processes, one module each. Every public function owns its transaction."""
