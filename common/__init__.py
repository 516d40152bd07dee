"""Bottom-layer helpers every app may import (output writers); imports no app."""
