# Sourced by the scripts in this folder: makes sure the Debian packages weft builds with are
# installed. As root it installs what is missing; otherwise it prints the exact command and
# stops.
# redis-tools (redis-cli, redis-benchmark) and redis-server: the mini_redis test, which skips
# its redis-cli cases without them, and bench/redis_bench.sh.
weft_packages=(cmake ninja-build g++ clang libclang-rt-14-dev libtbb-dev libgtest-dev libgmock-dev
               libbenchmark-dev libasan8 libtsan2 libubsan1 redis-tools redis-server)

weft_missing=()
for package in "${weft_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        weft_missing+=("$package")
    fi
done

if [ "${#weft_missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing: ${weft_missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${weft_missing[@]}"
    else
        echo "weft needs these packages; install them with:" >&2
        echo "    sudo apt-get install ${weft_missing[*]}" >&2
        exit 1
    fi
fi
