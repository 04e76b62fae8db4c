// A hung test fails after five minutes instead of holding up the whole run.
[assembly: Timeout(300_000)]
