package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {
    @Test
    void ipv6HostsAreBracketedAndEveryFormReadsBack() {
        for (String host : new String[] {"db1.example.com", "10.0.0.1", "::1", "fe80::1%eth0"}) {
            InetSocketAddress a = InetSocketAddress.createUnresolved(host, 5001);
            assertThat(HostPort.parse(HostPort.format(a))).isEqualTo(a);
        }
        assertThat(HostPort.format("::1", 5001)).isEqualTo("[::1]:5001");
        assertThat(HostPort.format("[::1]", 5001)).as("already bracketed").isEqualTo("[::1]:5001");
        assertThat(HostPort.format("localhost", 5001)).isEqualTo("localhost:5001");
        // Addresses written before brackets (in a configuration in the log) still read.
        assertThat(HostPort.parse("::1:5001")).isEqualTo(InetSocketAddress.createUnresolved("::1", 5001));
    }

    @Test
    void refusalsNameTheText() {
        assertThatThrownBy(() -> HostPort.parse("nowhere")).hasMessage("'nowhere' is not host:port");
        assertThatThrownBy(() -> HostPort.parse(":5001")).hasMessage("':5001' is not host:port");
        assertThatThrownBy(() -> HostPort.parse("[]:5001")).hasMessage("'[]:5001' is not host:port");
        assertThatThrownBy(() -> HostPort.parse("a:b")).hasMessage("'a:b' is not host:port");
        assertThatThrownBy(() -> HostPort.parse("a:0")).hasMessage("port 0 is out of range");
    }
}
