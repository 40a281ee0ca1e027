"""Tests of sharpeyes.api."""
