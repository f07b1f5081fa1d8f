#!/usr/bin/env bash
# Shared set-up of tests/run.sh and pipelines/demo.sh on a fresh Debian 12 machine:
# installs the apt packages epe needs (only the missing ones), configures and builds with -j2.
# Source it or run it; EPE_BUILD_DIR overrides the build folder (default: <repo>/build).
set -euo pipefail

EPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EPE_BUILD_DIR=${EPE_BUILD_DIR:-$EPE_ROOT/build}
export EPE_ROOT EPE_BUILD_DIR

EPE_APT_PACKAGES=(
  cmake g++ make pkg-config ccache
  libtorch-dev libfaiss-dev libopencv-dev libhdf5-dev libboost-program-options-dev libzip-dev libpng-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format  # the suite checks that every source is formatted (tests/check_format.sh)
  libgloo-dev  # headers of c10d's Gloo process group (epe train --distributed)
  libopenblas0-pthread  # without it LibTorch and FAISS use the reference BLAS (~10x slower)
  jupyter-nbconvert python3-ipykernel python3-h5py python3-matplotlib  # notebooks/ (executed by the tests)
  slurm-wlm munge  # the Slurm pipeline test starts a private single-node cluster (tests/slurm/cluster.sh)
)

epe_missing_packages() {
  local p
  for p in "${EPE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

epe_install_packages() {
  local missing
  missing=$(epe_missing_packages)
  [ -z "$missing" ] && return 0
  echo "bootstrap: installing missing packages:" $missing
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root (or sudo) to install:" $missing >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

epe_build() {
  local jobs=${EPE_JOBS:-2}
  cmake -S "$EPE_ROOT" -B "$EPE_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DEPE_BUILD_TESTS=ON
  cmake --build "$EPE_BUILD_DIR" -j "$jobs"
}

epe_install_packages
epe_build
EPE=$EPE_BUILD_DIR/apps/epe/epe
export EPE
