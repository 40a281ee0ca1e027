"""Tests of sharpeyes.workers."""
