"""The test suite's time for the tests that existed at a given commit, from surefire's XML reports:
every test method (@Test / @ParameterizedTest) in the *Test.java files of common/, jobs/ and tests/
at <commit>, matched by class and method name to the reports' test cases, their seconds summed,
plus the set-up time of the classes they are in (class time less its test cases' time).
Prints those figures and the whole run's.
Usage: python3 tests/bench/suite_time.py <commit> [reports dir ...]
  (run from the repository after `mvn -B verify`; reports default to */target/surefire-reports)"""
import glob, re, subprocess, sys
import xml.etree.ElementTree as ET

commit = sys.argv[1]
dirs = sys.argv[2:] or glob.glob("*/target/surefire-reports")
files = subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, "--", "common/src/test/java", "jobs/src/test/java",
                        "tests/src/test/java"], capture_output=True, text=True, check=True).stdout.split()
methods, classes = set(), set()
for f in files:
    if not f.endswith("Test.java"):
        continue
    c = f.rsplit("/", 1)[1][:-5]
    classes.add(c)
    src = subprocess.run(["git", "show", f"{commit}:{f}"], capture_output=True, text=True, check=True).stdout
    for m in re.finditer(r"@(?:Test|ParameterizedTest)\b[^;{]*?void\s+(\w+)\s*\(", src, re.S):
        methods.add((c, m.group(1)))
found, tc_then, cls_time, cls_tc, all_time, all_tests = set(), 0.0, 0.0, 0.0, 0.0, 0
for d in dirs:
    for x in glob.glob(f"{d}/TEST-*.xml"):
        r = ET.parse(x).getroot()
        c = r.get("name").rsplit(".", 1)[-1]
        all_time += float(r.get("time"))
        cases = list(r.iter("testcase"))
        all_tests += len(cases)
        if c in classes:
            cls_time += float(r.get("time"))
        for tc in cases:
            t = float(tc.get("time"))
            if c in classes:
                cls_tc += t
            key = (c, tc.get("name").split("(")[0].split("[")[0])
            if key in methods:
                found.add(key)
                tc_then += t
print(f"{commit}: {len(classes)} test classes, {len(methods)} test methods; {len(found)} of them ran now")
print(f"  their test cases: {tc_then:.1f} s; with their classes' set-up ({cls_time - cls_tc:.1f} s): {tc_then + cls_time - cls_tc:.1f} s")
print(f"  those classes as they are now (every test in them): {cls_time:.1f} s")
print(f"whole run: {all_tests} test cases, {all_time:.1f} s of test-class time")
missing = sorted(methods - found)
if missing:
    print("  not run now (renamed or removed): " + ", ".join(f"{c}.{m}" for c, m in missing))
