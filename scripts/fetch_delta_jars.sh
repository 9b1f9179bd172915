#!/usr/bin/env bash
# For machines where Spark's own resolver cannot reach Maven Central: fetch the Delta jars
# matching the installed pyspark/delta-spark (and their runtime dependencies) with Maven into
# the jar cache that Spark then loads them from (lakehouse_assets/resources/spark.py).
# Usage: bash scripts/fetch_delta_jars.sh
set -euo pipefail
cd "$(dirname "$0")/.."
read -r coordinate cache < <(.venv/bin/python -c '
from lakehouse_assets.resources.spark import delta_maven_coordinate, jar_cache_dir
print(delta_maven_coordinate(), jar_cache_dir())')
IFS=: read -r group artifact version <<<"$coordinate"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>delta-jars</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>$group</groupId><artifactId>$artifact</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
POM
mkdir -p "$cache"
# Runtime scope: Spark is "provided" by pyspark; Scala comes with pyspark too (as Ivy does).
mvn -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DexcludeGroupIds=org.scala-lang -DoutputDirectory="$cache"
echo "$coordinate (fetched with Maven)" > "$cache/COMPLETE"
echo "Delta jars in $cache:"; ls "$cache"
