"""Tests of sharpeyes.store."""
