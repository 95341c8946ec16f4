//! Seal + open of one record at 64 B, 1 KiB and 16 KiB: securecom's session (send, write
//! out, push in, next_record) against raw aes-gcm 0.11 in place (the AEAD our records
//! use, with no framing), rustls application data through a connected pair (ring,
//! TLS_AES_256_GCM_SHA384), and snow transport messages (AESGCM).
//!
//! Run: `cargo bench --bench records`. Ratios are in docs/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use securecom::proto::session::{Channel, Incoming};

use support::{Rustls, Securecom, Snow, rustls_record, sys_rng};

const SIZES: [usize; 3] = [64, 1024, 16 * 1024];

fn bench_records(c: &mut Criterion) {
    let securecom = Securecom::new();
    let (mut sc_client, mut sc_server) = securecom.handshake(&mut sys_rng());
    let rustls = Rustls::new();
    let (mut tls_client, mut tls_server) = rustls.handshake();
    let (mut noise_client, mut noise_server) = Snow::new().handshake();
    let aead = Aes256Gcm::new(&[0x42; 32].into());

    let mut group = c.benchmark_group("record");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(4));
    for size in SIZES {
        let payload = vec![0x5a_u8; size];
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_with_input(BenchmarkId::new("securecom", size), &payload, |b, p| {
            b.iter(|| {
                sc_client.send(Channel::Standard, black_box(p)).unwrap();
                let took = sc_server.push_input(sc_client.output());
                sc_client.consume_output(took);
                match sc_server.next_record().unwrap() {
                    Some(Incoming::Data { payload, .. }) => black_box(payload.len()),
                    other => panic!("{other:?}"),
                }
            })
        });

        let mut buf = payload.clone();
        let header = [0x04, 0, 0, 0, 0];
        let mut counter = 0u64;
        group.bench_with_input(BenchmarkId::new("aes_gcm_raw", size), &size, |b, _| {
            b.iter(|| {
                counter += 1;
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&counter.to_be_bytes());
                let tag = aead
                    .encrypt_inout_detached(&nonce.into(), &header, buf.as_mut_slice().into())
                    .unwrap();
                aead.decrypt_inout_detached(
                    &nonce.into(),
                    &header,
                    buf.as_mut_slice().into(),
                    &tag,
                )
                .unwrap();
                black_box(&buf);
            })
        });

        let mut wire = Vec::with_capacity(size + 64);
        let mut out = vec![0u8; size];
        group.bench_with_input(BenchmarkId::new("rustls", size), &payload, |b, p| {
            b.iter(|| {
                black_box(rustls_record(
                    &mut tls_client,
                    &mut tls_server,
                    black_box(p),
                    &mut wire,
                    &mut out,
                ))
            })
        });

        let mut msg = vec![0u8; size + 16];
        let mut read = vec![0u8; size];
        group.bench_with_input(BenchmarkId::new("snow", size), &payload, |b, p| {
            b.iter(|| {
                let n = noise_client.write_message(black_box(p), &mut msg).unwrap();
                black_box(noise_server.read_message(&msg[..n], &mut read).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_records);
criterion_main!(benches);
