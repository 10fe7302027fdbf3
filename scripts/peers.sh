#!/usr/bin/env bash
# Install the real third-party peers the tests and benchmarks use, from Debian's packages.
# Nothing is started here: each test starts what it needs, on loopback, and stops it.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "peers.sh: needs root for apt-get (skipping)"; exit 0; fi
# Services must not start on install (no systemd here; Orthanc's postinst would grab ports 4242/8042).
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
need=()
for pair in dciodvfy:dicom3tools storescu:dcmtk Orthanc:orthanc nmap:nmap openssl:openssl chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
# Pixel redaction tests: tesseract (alternative OCR), DejaVu fonts (generated images),
# libGL/GLib for the opencv-python build that rapidocr-onnxruntime pulls in.
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata >/dev/null 2>&1 || need+=(tesseract-ocr-eng)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf ] || need+=(fonts-dejavu-extra)
[ -e /usr/lib/x86_64-linux-gnu/libGL.so.1 ] || [ "$(uname -m)" != x86_64 ] || need+=(libgl1 libglib2.0-0)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "peers.sh: dicom3tools, dcmtk, orthanc, nmap, chromium, tesseract ready"
